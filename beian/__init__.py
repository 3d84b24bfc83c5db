"""备案助手 engine: knowledge base, matcher, eligibility checker, feedback log. Never imports streamlit."""
