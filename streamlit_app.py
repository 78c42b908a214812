"""Generative Models Lab: the entry point. Navigation over app_pages/, nothing heavy here.

The page folder is not called pages/: Streamlit treats a folder of that name as a legacy
auto-discovered multipage app for the first run after the server starts, so a deep link
(/sample) opened first would bypass this file and its navigation.
"""

import streamlit as st

from inference.runtime import script_run, tune_malloc

tune_malloc()  # freed memory goes back to the system, not kept in a heap per script-run thread

st.set_page_config(page_title="Generative Models Lab", page_icon=":material/blur_on:", layout="wide")

pages = {
    "": [st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Generate": [
        st.Page("app_pages/sample.py", title="Sample", icon=":material/grid_view:"),
        st.Page("app_pages/live.py", title="Live in your browser", icon=":material/bolt:"),
        st.Page("app_pages/diffusion.py", title="Diffusion, step by step", icon=":material/blur_on:"),
        st.Page("app_pages/interpolate.py", title="Interpolate", icon=":material/timeline:"),
        st.Page("app_pages/complete.py", title="Complete", icon=":material/auto_fix_high:"),
    ],
    "Inspect": [
        st.Page("app_pages/reconstruct.py", title="Reconstruct", icon=":material/compare:"),
        st.Page("app_pages/likelihood.py", title="Likelihood", icon=":material/query_stats:"),
        st.Page("app_pages/pixel.py", title="One pixel's prediction", icon=":material/center_focus_strong:"),
        st.Page("app_pages/image_likelihood.py", title="Out-of-distribution", icon=":material/report:"),
        st.Page("app_pages/latent.py", title="Latent structure", icon=":material/scatter_plot:"),
        st.Page("app_pages/features.py", title="Learned features", icon=":material/label:"),
    ],
    "Compare": [st.Page("app_pages/compare.py", title="Compare models", icon=":material/leaderboard:")],
    "Densities and toys": [
        st.Page("app_pages/density_1d.py", title="Density in 1-D", icon=":material/area_chart:"),
        st.Page("app_pages/density_2d.py", title="Density in 2-D", icon=":material/grain:"),
        st.Page("app_pages/density_2d_yours.py", title="Your 2-D points", icon=":material/edit_location_alt:"),
        st.Page("app_pages/gan_lab.py", title="GAN lab", icon=":material/sports_kabaddi:"),
    ],
}


# Behind nginx (deploy/), a browser whose replica died reconnects its websocket to another replica, which holds
# no session for it. Streamlit's client reruns the page after a reconnect only if the page has a timed fragment,
# so this one (an hourly no-op, drawing nothing) is here: without it the reconnected page stays as it was, its
# pictures and download buttons pointing at the dead replica's files, until the next click (tests/test_deploy_nginx.py).
@st.fragment(run_every=3600)
def rerun_after_reconnect() -> None:
    pass


rerun_after_reconnect()
page = st.navigation(pages, expanded=True)
with script_run(
    page.url_path or "home"
):  # when the server goes idle, the runs' freed scratch memory goes back to the system
    page.run()
