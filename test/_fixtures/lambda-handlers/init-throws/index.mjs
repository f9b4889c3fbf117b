// Fails while the module loads, before any handler runs.
console.log('init-throws: loading');
throw new Error('init failed on purpose');
