/** Wrangler bundles `.html` files as text modules (its default Text rule); so does the test plugin. */
declare module "*.html" {
  const text: string;
  export default text;
}
