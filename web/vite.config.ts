// Builds the console into web/dist, which the admin API serves at `/` (src/admin/api/console-static.ts).
// `npm run dev:web` would need a proxy to the API; the first slice is used through the built bundle.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});
