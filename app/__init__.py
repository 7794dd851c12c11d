"""The Streamlit app: entry `app/streamlit_app.py`; controls, cached compute, figures, exports."""
