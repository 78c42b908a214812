"""Generative Models Lab: the entry point. Navigation over pages/, nothing heavy here."""

import streamlit as st

st.set_page_config(page_title="Generative Models Lab", page_icon=":material/blur_on:", layout="wide")

pages = {
    "Lab": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/sample.py", title="Sample", icon=":material/grid_view:"),
        st.Page("pages/reconstruct.py", title="Reconstruct", icon=":material/compare:"),
        st.Page("pages/interpolate.py", title="Interpolate", icon=":material/timeline:"),
    ],
}
st.navigation(pages).run()
