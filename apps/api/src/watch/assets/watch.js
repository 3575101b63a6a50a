// Plays an HLS-only recording: natively where the browser can (Safari), else with hls.js.
(() => {
  const video = document.getElementById("player");
  const source = video?.dataset.hls;
  if (!video || !source) return;
  if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = source;
  } else if (window.Hls?.isSupported()) {
    const hls = new window.Hls();
    hls.loadSource(source);
    hls.attachMedia(video);
  }
})();
