// Packaged by the tests as nodejs/node_modules/layer-greeting inside a layer.
exports.greet = (name) => `hello ${name} from the layer`;
