"""The Streamlit page, split by tab. Only this package (and app.py) imports streamlit."""
