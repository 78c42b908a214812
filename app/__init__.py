"""The app's Streamlit layer, shared by every page in app_pages/: cached loaders (models.py), widgets
(widgets.py), how digits and headers are shown (display.py), figures (plots.py) and tables (tables.py).

Pages stay short scripts by calling these, and every page looks and behaves the same way. The
numbers themselves come from the inference package (numpy + onnxruntime), which knows nothing of
Streamlit.
"""
