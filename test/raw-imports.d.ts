// Vite hands a `?raw` import over as the file's text; tests read the example files this way.
declare module "*?raw" {
  const text: string;
  export default text;
}
