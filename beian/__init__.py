"""备案助手 engine: knowledge base, matcher, eligibility checker, feedback log. Never imports streamlit."""

# Register knowledge/eligibility.yaml and knowledge/suffixes.yaml (and their cross-checks) with the
# KB loader, so every load and `validate` checks them. eligibility imports kb, never the reverse: no cycle.
from . import eligibility as _eligibility  # noqa: E402,F401
from . import gate as _gate  # noqa: E402,F401 - likewise knowledge/gate.yaml (the fitted answer gate)
