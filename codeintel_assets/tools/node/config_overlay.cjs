// Preloaded into scip-python (`node --require`, set through NODE_OPTIONS by tools/scip_config.py).
//
// scip-python has no option for a config file path: it reads `scip-pyrightconfig.json` /
// `pyrightconfig.json` from the project root. To exclude a file it crashed on without writing
// into the user's tree, this preload makes node's `fs` serve the config path
// CODEINTEL_SCIP_CONFIG_TARGET (absolute, inside the tree; it need not exist) from the file
// CODEINTEL_SCIP_CONFIG_SOURCE (a temporary file outside the tree). Every other path, and so
// every path pyright resolves or reports, is untouched. pyright reads through @yarnpkg/fslib's
// NodeFS, which calls these functions on the `fs` module object at call time.
'use strict';
const fs = require('fs');
const path = require('path');

const target = process.env.CODEINTEL_SCIP_CONFIG_TARGET;
const source = process.env.CODEINTEL_SCIP_CONFIG_SOURCE;

if (target && source) {
  const isTarget = (p) =>
    (typeof p === 'string' || Buffer.isBuffer(p)) && path.resolve(String(p)) === target;
  // A write to the target (none is expected) lands in the temporary file, never in the tree.
  for (const name of ['existsSync', 'readFileSync', 'statSync', 'lstatSync', 'accessSync',
                      'openSync']) {
    const original = fs[name];
    fs[name] = function (p, ...rest) {
      return original.call(this, isTarget(p) ? source : p, ...rest);
    };
  }
  // realpath keeps the target's name, so the config's directory stays the project root.
  const realpath = fs.realpathSync;
  const realpathNative = realpath.native;
  fs.realpathSync = function (p, ...rest) {
    return isTarget(p) ? target : realpath.call(this, p, ...rest);
  };
  fs.realpathSync.native = function (p, ...rest) {
    return isTarget(p) ? target : realpathNative.call(this, p, ...rest);
  };
}
