// Renders every formula given on standard input (a JSON list of {tex, display})
// with the KaTeX vendored for the documentation site; prints the failures as JSON.
const path = require("path");
const katex = require(path.join(__dirname, "..", "docs", "vendor", "katex", "katex.min.js"));
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const failures = [];
  for (const { tex, display } of JSON.parse(input)) {
    try {
      katex.renderToString(tex, { throwOnError: true, displayMode: display });
    } catch (error) {
      failures.push({ tex, error: String(error.message || error) });
    }
  }
  process.stdout.write(JSON.stringify(failures));
});
