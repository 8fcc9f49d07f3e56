// The cheapest thing the runtime can do: a JavaScript worker answering a fixed JSON
// body. bench/run.sh's targets for a track are ratios to it.
export default {
  fetch() {
    return Response.json({ ok: true });
  },
};
