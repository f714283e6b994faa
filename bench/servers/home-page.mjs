// The page the tutorial's pages server answers on `/`, byte for byte, shared by the raw Node anchors
// that stand beside `srv-demo pages` / `threading` / `forking` in the bench.
export const homePage = `<html>
  <head><title>Home Page</title></head>
  <body>
    <h3>This is Home Page</h3>
    <p>Home Page Like This and Nobody Care</p>
  </body>
</html>
`;
