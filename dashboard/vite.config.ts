// Builds the operator dashboard (dashboard/) into dist/dashboard/, served by the service at /dashboard/.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/dashboard/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    // The output folder lies outside this root, so Vite only empties it when told to.
    emptyOutDir: true,
    // The CSP allows no inline script or style: keep every asset a file, never a data: URL module.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
