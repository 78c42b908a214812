"""Generative Models Lab: the entry point. Navigation over app_pages/, nothing heavy here.

The page folder is not called pages/: Streamlit treats a folder of that name as a legacy
auto-discovered multipage app for the first run after the server starts, so a deep link
(/sample) opened first would bypass this file and its navigation.
"""

import streamlit as st

st.set_page_config(page_title="Generative Models Lab", page_icon=":material/blur_on:", layout="wide")

pages = {
    "Lab": [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/sample.py", title="Sample", icon=":material/grid_view:"),
        st.Page("app_pages/reconstruct.py", title="Reconstruct", icon=":material/compare:"),
        st.Page("app_pages/interpolate.py", title="Interpolate", icon=":material/timeline:"),
    ],
}
st.navigation(pages).run()
