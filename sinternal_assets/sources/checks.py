"""The blocking data checks of the `sources` stage's assets (GX suites and SQL checks, see validation/checks.py)."""

from sinternal_assets.sources.assets import prompt_sources
from sinternal_assets.validation import suites
from sinternal_assets.validation.checks import gx_check

CHECKS = [
    gx_check(
        prompt_sources, "source_prompts", lambda v, g: suites.source_prompts_suite(v["categories"], g.max_prompt_chars)
    ),
]
