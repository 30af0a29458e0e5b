// Compiles the contracts beside this file with the pinned solc into build/<Name>.json
// ({abi, bytecode}): the escrow's ABI for the server, both bytecodes for the local chain.
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const sources = {};
for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith(".sol")).sort()) {
  sources[file] = { content: fs.readFileSync(path.join(__dirname, file), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    // py-evm (the tests' local chain) runs Cancun; later forks' opcodes would not deploy there.
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const out = path.join(__dirname, "build");
fs.mkdirSync(out, { recursive: true });
for (const file of Object.keys(output.contracts)) {
  for (const [name, contract] of Object.entries(output.contracts[file])) {
    if (!contract.evm.bytecode.object) continue; // an interface: nothing to deploy
    const artefact = { abi: contract.abi, bytecode: "0x" + contract.evm.bytecode.object };
    fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify(artefact, null, 1) + "\n");
  }
}
