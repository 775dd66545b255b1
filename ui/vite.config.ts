/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { frozenPrototype } from "./vite-frozen-prototype";

// Tauri serves the built files from ui/dist; the dev server listens on loopback only.
export default defineConfig(({ mode }) => ({
  // The diagram library's dependencies made to load with Object.prototype frozen (see the file).
  plugins: [svelte(), frozenPrototype()],
  clearScreen: false,
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true, sourcemap: false },
  // Component tests (Vitest runs in mode "test") mount with the browser build of Svelte.
  resolve: mode === "test" ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    // Transformed like the app's build, so a test can load them with the prototype frozen.
    server: { deps: { inline: [/node_modules[\\/](?!svelte|@tauri-apps|marked|dompurify|highlight\.js|katex|remend|vitest|@vitest|jsdom|@testing-library|typescript)/] } },
  },
}));
