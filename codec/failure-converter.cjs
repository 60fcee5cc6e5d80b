// Loaded by path (DataConverter.failureConverterPath): the SDK `require`s it in clients and
// workers and webpack bundles it into the workflow sandbox, so it is plain CommonJS that both can
// load without a TypeScript loader. Failure messages and stack traces go into an encoded payload,
// which the payload codec then encrypts: a carrier error quoting a number never lands in history.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
