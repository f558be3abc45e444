import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// Built files are served under /app-assets/ (Django in DEBUG via config/spa.py, nginx in docker);
// index.html itself is served by Django's catch-all for every non-API path.
export default defineConfig(({ command }) => ({
  plugins: [vue()],
  base: command === "build" ? "/app-assets/" : "/",
  build: { outDir: "dist", assetsDir: "", sourcemap: false },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/sandbox": "http://127.0.0.1:8000",
      "/media": "http://127.0.0.1:8000",
    },
  },
}));
