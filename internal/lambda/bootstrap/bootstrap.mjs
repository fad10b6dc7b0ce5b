// hydrant's runtime for nodejs* Lambda functions.
//
// It speaks the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API with Node's
// standard library only: import the handler module (_HANDLER =
// "file.function", file.js, .mjs or .cjs, CommonJS `exports.handler` or ESM
// `export const handler`) from LAMBDA_TASK_ROOT, then for each event call the
// handler (async, or with a callback when it takes three arguments) and post
// its result or error. hydrant writes START, END and REPORT itself.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { pathToFileURL } from 'node:url';

// host:port, then the instance's secret path segment hydrant requires on
// every request (/SECRET/2018-06-01/runtime/...).
const api = process.env.AWS_LAMBDA_RUNTIME_API || '';
const slash = api.indexOf('/');
const address = slash < 0 ? api : api.slice(0, slash);
const prefix = slash < 0 ? '' : api.slice(slash);
const sep = address.lastIndexOf(':');
const host = address.slice(0, sep);
const port = Number(address.slice(sep + 1));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = prefix + '/2018-06-01/runtime';
const root = process.env.LAMBDA_TASK_ROOT || process.cwd();

function request(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const h = { ...headers };
    if (data) h['Content-Length'] = data.length;
    const req = http.request({ host, port, method, path: BASE + p, agent, headers: h }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// console.* as Lambda's Node runtime prints them: time, request ID, level,
// message; newlines become \r so one call stays one log event.
let currentRequestId;
for (const [name, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE']]) {
  console[name] = (...args) => {
    const msg = util.format(...args).replace(/\n/g, '\r');
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${msg}\n`);
  };
}

class RuntimeError extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

function errorDoc(err) {
  if (err instanceof Error) {
    return { errorType: err.name || 'Error', errorMessage: err.message, trace: String(err.stack || '').split('\n') };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

async function loadHandler() {
  const spec = process.env._HANDLER || '';
  const i = spec.lastIndexOf('.');
  if (i <= 0 || i === spec.length - 1) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${spec}`);
  }
  const modPath = spec.slice(0, i);
  const fn = spec.slice(i + 1);
  const base = path.resolve(root, modPath);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (!file) {
    throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${modPath}'`);
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    const type = e instanceof SyntaxError ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError';
    throw new RuntimeError(type, `${e.name}: ${e.message}`);
  }
  let h = mod[fn];
  if (typeof h !== 'function' && mod.default && typeof mod.default[fn] === 'function') {
    h = mod.default[fn];
  }
  if (typeof h !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${modPath}.${fn} is undefined or not exported`);
  }
  return h;
}

function makeContext(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  const cc = headers['lambda-runtime-client-context'];
  let settle;
  const settled = new Promise((resolve, reject) => { settle = { resolve, reject }; });
  const context = {
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: cc ? JSON.parse(cc) : undefined,
    identity: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: (err, res) => (err ? settle.reject(err) : settle.resolve(res)),
    succeed: (res) => settle.resolve(res),
    fail: (err) => settle.reject(err ?? 'handled'),
  };
  return { context, settled };
}

function callHandler(handler, event, context) {
  if (handler.length >= 3) {
    return new Promise((resolve, reject) => {
      const callback = (err, res) => (err ? reject(err) : resolve(res));
      const r = handler(event, context, callback);
      if (r && typeof r.then === 'function') r.then(resolve, reject);
    });
  }
  return Promise.resolve().then(() => handler(event, context));
}

async function postError(p, err, type) {
  const doc = errorDoc(err);
  if (type) doc.errorType = type;
  console.error('Invoke Error', JSON.stringify(doc));
  await request('POST', p, JSON.stringify(doc), {
    'Lambda-Runtime-Function-Error-Type': doc.errorType,
    'Content-Type': 'application/json',
  });
}

async function fatal(err, type) {
  try {
    if (currentRequestId) {
      await postError(`/invocation/${currentRequestId}/error`, err, type);
    } else {
      await postError('/init/error', err, type);
    }
  } finally {
    process.exit(129);
  }
}

process.on('uncaughtException', (err) => fatal(err, undefined));
process.on('unhandledRejection', (err) => fatal(err, 'Runtime.UnhandledPromiseRejection'));

async function main() {
  process.chdir(root);
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    await postError('/init/error', e);
    process.exit(1);
  }
  for (;;) {
    const next = await request('GET', '/invocation/next');
    if (next.status !== 200) process.exit(1);
    const id = next.headers['lambda-runtime-aws-request-id'];
    process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] || '';
    currentRequestId = id;
    const { context, settled } = makeContext(next.headers);
    try {
      const event = next.body.length ? JSON.parse(next.body.toString('utf8')) : {};
      const result = await Promise.race([settled, callHandler(handler, event, context)]);
      const body = JSON.stringify(result === undefined ? null : result) ?? 'null';
      await request('POST', `/invocation/${id}/response`, body, { 'Content-Type': 'application/json' });
    } catch (err) {
      await postError(`/invocation/${id}/error`, err);
    }
    currentRequestId = undefined;
  }
}

main();
