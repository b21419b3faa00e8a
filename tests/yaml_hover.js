// What an editor shows for a spec: yaml-language-server (the YAML extension of VS Code,
// and others) over stdio, as tests/test_jsonschema.py runs it. Prints one JSON object:
// the diagnostics of the file and the hover text at each LINE:COL (0-based) given.
//   node tests/yaml_hover.js SERVER FILE [LINE:COL ...]
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");

const [server, file, ...points] = process.argv.slice(2);
const uri = "file://" + path.resolve(file);
const child = spawn(server, ["--stdio"], { stdio: ["pipe", "pipe", "inherit"] });
const pending = {};
let buffer = Buffer.alloc(0);
let nextId = 0;
let diagnosed;
const diagnostics = new Promise((resolve) => (diagnosed = resolve));

function send(message) {
  const text = JSON.stringify({ jsonrpc: "2.0", ...message });
  child.stdin.write(`Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

function request(method, params) {
  return new Promise((resolve) => {
    pending[++nextId] = resolve;
    send({ id: nextId, method, params });
  });
}

function receive(message) {
  if (message.id !== undefined && pending[message.id]) {
    pending[message.id](message.result);
    delete pending[message.id];
  } else if (message.method === "textDocument/publishDiagnostics" && message.params.uri === uri) {
    diagnosed(message.params.diagnostics.map((d) => [d.range.start.line, d.message]));
  } else if (message.id !== undefined && message.method) {
    // The server asks for its settings: validation and hover on, no schema store.
    const settings = { validate: true, hover: true, schemaStore: { enable: false } };
    const many = message.method === "workspace/configuration";
    send({ id: message.id, result: many ? message.params.items.map(() => settings) : null });
  }
}

child.stdout.on("data", (data) => {
  buffer = Buffer.concat([buffer, data]);
  for (;;) {
    const end = buffer.indexOf("\r\n\r\n");
    if (end < 0) return;
    const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, end).toString())[1]);
    if (buffer.length < end + 4 + length) return;
    receive(JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString()));
    buffer = buffer.subarray(end + 4 + length);
  }
});

(async () => {
  setTimeout(() => {
    console.error("yaml-language-server did not answer in 60 s");
    process.exit(2);
  }, 60000).unref();
  await request("initialize", { processId: process.pid, rootUri: null, capabilities: {} });
  send({ method: "initialized", params: {} });
  const yaml = { validate: true, hover: true, schemaStore: { enable: false } };
  send({ method: "workspace/didChangeConfiguration", params: { settings: { yaml } } });
  const text = fs.readFileSync(file, "utf8");
  const document = { uri, languageId: "yaml", version: 1, text };
  send({ method: "textDocument/didOpen", params: { textDocument: document } });
  const found = await diagnostics;
  const hovers = {};
  for (const point of points) {
    const [line, character] = point.split(":").map(Number);
    const params = { textDocument: { uri }, position: { line, character } };
    const hover = await request("textDocument/hover", params);
    hovers[point] = hover && hover.contents ? hover.contents.value || "" : "";
  }
  console.log(JSON.stringify({ diagnostics: found, hovers }));
  child.kill();
  process.exit(0);
})();
