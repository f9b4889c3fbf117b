// CommonJS in a subfolder with a nested export, loaded from the handler string `src/app.api.handler`.
exports.api = {
  handler(event, context, callback) {
    callback(null, { style: 'callback', module: typeof module, got: event });
  },
};
