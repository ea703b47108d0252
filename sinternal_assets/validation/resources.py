"""The bounds the blocking data checks enforce, as a Dagster resource."""

from dagster import ConfigurableResource


class QualityGatesResource(ConfigurableResource):
    """Bounds the blocking data checks enforce."""

    min_harmful_share: float = 0.5
    max_harmful_share: float = 0.97
    min_pool_rows: int = 1
    max_prompt_chars: int = 20_000
    # verification examples: verdict balance of the training split, and lengths (characters)
    min_safe_share: float = 0.05
    max_safe_share: float = 0.95
    max_example_input_chars: int = 60_000
    max_example_target_chars: int = 8_000
