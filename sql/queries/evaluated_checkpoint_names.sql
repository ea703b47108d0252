-- The checkpoints the current evaluation generated answers from.
SELECT DISTINCT checkpoint FROM eval_selection;
