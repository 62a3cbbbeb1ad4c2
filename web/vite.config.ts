import { defineConfig } from "vite";

// The built explorer is served by the Python package (latentspace.server) from its static folder.
export default defineConfig({
  base: "./",
  build: {
    outDir: "../src/latentspace/server/static",
    emptyOutDir: true,
    // The bundle is about 600 kB minified, mostly three.js, so the default 500 kB warning would always fire.
    chunkSizeWarningLimit: 900,
  },
  server: {
    // `npm run dev` forwards API calls to a latentspace server listening on 127.0.0.1:8765.
    proxy: { "/api": "http://127.0.0.1:8765" },
  },
});
