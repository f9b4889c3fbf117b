'use strict';
// CommonJS inside an ESM bundle: `require` and `__dirname` come from the bundle's banner.
const path = require('node:path');

module.exports = {
  dirname: () => __dirname,
  resolve: (name) => require.resolve(name),
  sep: () => path.sep,
};
