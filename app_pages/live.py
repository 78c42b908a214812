"""Live: the latent explorer, the draw pad and the samplers, computed in the visitor's own browser."""

import streamlit as st

from app import display, live, widgets

display.header(
    "Live in your browser",
    "The same ONNX files, run on your own machine by onnxruntime-web: the picture follows the pointer and the pen "
    "with no trip to the server. Where the browser cannot (no WebAssembly), the server draws the view instead.",
)

# The link names the view (/live?view=draw); a stale or hand-made value falls back to the latent explorer.
linked = st.query_params.get("view")
if st.session_state.get("view") not in live.VIEWS:
    st.session_state["view"] = linked if linked in live.VIEWS else "latent"
view = st.segmented_control("View", list(live.VIEWS), format_func=live.VIEWS.get, key="view", required=True)
st.query_params["view"] = view
on_server = st.sidebar.toggle(
    "Compute on the server",
    key="on_server",
    bind="query-params",
    help="Run the view on the server, as every other page does: each change reruns the page. To compare the two.",
)
seed = widgets.seed_input() if view == "samplers" else 0

if not on_server:
    if view == "latent":
        args, byte_args = live.latent_args()
    elif view == "draw":
        args, byte_args = live.draw_args()
    else:
        args, byte_args = live.sampler_args(seed)
    if view == "latent" and not args:
        st.info("No model with a 2-d latent space is available. Run `python -m training all`.")
        st.stop()
    if live.show(view, args, byte_args) is None:
        st.stop()  # the browser runs it; it said so on its first line if it cannot

if view == "latent":
    live.server_latent()
elif view == "draw":
    live.server_draw()
else:
    live.server_samplers(seed)
