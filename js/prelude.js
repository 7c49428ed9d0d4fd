// The JavaScript half of the VM's built-ins. It runs once per VM, before any
// script, as a function that gets the Go primitives as its argument and
// returns the helpers Go calls, so that neither is left in the global scope.
(function (go) {
	'use strict';

	// goja has no asynchronous iteration or disposal protocols: give them
	// their symbols, so that libraries can use the standard names.
	for (const name of ['asyncIterator', 'asyncDispose', 'dispose']) {
		if (typeof Symbol[name] !== 'symbol') {
			Object.defineProperty(Symbol, name, { value: Symbol('Symbol.' + name) });
		}
	}

	function define(name, value) {
		Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
	}

	define('queueMicrotask', function queueMicrotask(callback) {
		if (typeof callback !== 'function') {
			throw new TypeError('queueMicrotask: callback is not a function');
		}
		Promise.resolve().then(() => {
			try {
				callback();
			} catch (e) {
				go.reportError(e);
			}
		});
	});

	function namedError(name, message) {
		const e = new Error(message);
		e.name = name;
		return e;
	}

	const fire = Symbol('abort');
	const internal = Symbol('internal');

	class AbortSignal {
		#aborted = false;
		#reason = undefined;
		#listeners = [];
		onabort = null;

		constructor(key) {
			if (key !== internal) {
				throw new TypeError('Illegal constructor');
			}
		}
		get aborted() { return this.#aborted; }
		get reason() { return this.#reason; }
		throwIfAborted() {
			if (this.#aborted) {
				throw this.#reason;
			}
		}
		addEventListener(type, listener, options) {
			if (type === 'abort' && typeof listener === 'function') {
				this.#listeners.push({ listener, once: !!(options && options.once) });
			}
		}
		removeEventListener(type, listener) {
			this.#listeners = this.#listeners.filter(l => l.listener !== listener);
		}
		[fire](reason) {
			if (this.#aborted) {
				return;
			}
			this.#aborted = true;
			this.#reason = reason === undefined ? namedError('AbortError', 'This operation was aborted') : reason;
			const event = { type: 'abort', target: this };
			const listeners = this.onabort ? [{ listener: this.onabort }, ...this.#listeners] : this.#listeners;
			this.#listeners = [];
			for (const { listener } of listeners) {
				try {
					listener.call(this, event);
				} catch (e) {
					go.reportError(e);
				}
			}
		}
		static abort(reason) {
			const s = new AbortSignal(internal);
			s[fire](reason);
			return s;
		}
		static timeout(ms) {
			const s = new AbortSignal(internal);
			setTimeout(() => s[fire](namedError('TimeoutError', 'The operation timed out')), ms);
			return s;
		}
	}

	class AbortController {
		#signal = new AbortSignal(internal);
		get signal() { return this.#signal; }
		abort(reason) { this.#signal[fire](reason); }
	}

	const pairs = Symbol('pairs');

	class Headers {
		#map = new Map(); // lower-cased name -> values

		constructor(init) {
			if (init == null) {
				return;
			}
			const entries = init instanceof Headers || Array.isArray(init) ? init : Object.entries(init);
			for (const [name, value] of entries) {
				this.append(name, value);
			}
		}
		append(name, value) {
			const key = String(name).toLowerCase();
			const vs = this.#map.get(key);
			if (vs) {
				vs.push(String(value));
			} else {
				this.#map.set(key, [String(value)]);
			}
		}
		set(name, value) { this.#map.set(String(name).toLowerCase(), [String(value)]); }
		get(name) {
			const vs = this.#map.get(String(name).toLowerCase());
			return vs ? vs.join(', ') : null;
		}
		has(name) { return this.#map.has(String(name).toLowerCase()); }
		delete(name) { this.#map.delete(String(name).toLowerCase()); }
		forEach(callback, thisArg) {
			for (const [name, value] of this) {
				callback.call(thisArg, value, name, this);
			}
		}
		*entries() {
			for (const name of [...this.#map.keys()].sort()) {
				yield [name, this.#map.get(name).join(', ')];
			}
		}
		*keys() { for (const [name] of this.entries()) yield name; }
		*values() { for (const [, value] of this.entries()) yield value; }
		[Symbol.iterator]() { return this.entries(); }
		// Every value on its own, for Go.
		[pairs]() {
			const out = [];
			for (const [name, vs] of this.#map) {
				for (const v of vs) {
					out.push(name, v);
				}
			}
			return out;
		}
	}

	// A body is the async iterator of a response's chunks (strings, never
	// split inside a character). Its reads are chained, so that they never
	// overlap however fast next is called.
	function body(req, signal) {
		let last = Promise.resolve();
		let done = false;
		const it = {
			next() {
				const p = last.then(async () => {
					if (done) {
						return { done: true, value: undefined };
					}
					const chunk = await guard(req.read(), signal);
					if (chunk === null) {
						done = true;
						return { done: true, value: undefined };
					}
					return { done: false, value: chunk };
				});
				last = p.catch(() => {});
				return p;
			},
			async return(value) {
				done = true;
				req.close();
				return { done: true, value };
			},
			[Symbol.asyncIterator]() { return this; },
		};
		return it;
	}

	// guard turns a failure after an abort into the signal's reason.
	async function guard(promise, signal) {
		try {
			return await promise;
		} catch (e) {
			if (signal && signal.aborted) {
				throw signal.reason;
			}
			throw e;
		}
	}

	class Response {
		#req;
		#signal;
		#used = false;
		#body = null;

		constructor(req, raw, signal) {
			this.#req = req;
			this.#signal = signal;
			this.status = raw.status;
			this.statusText = raw.statusText;
			this.ok = raw.status >= 200 && raw.status < 300;
			this.url = raw.url;
			this.headers = new Headers();
			for (let i = 0; i < raw.headers.length; i += 2) {
				this.headers.append(raw.headers[i], raw.headers[i + 1]);
			}
		}
		get bodyUsed() { return this.#used; }
		get body() {
			if (this.#body === null) {
				this.#take();
				this.#body = body(this.#req, this.#signal);
			}
			return this.#body;
		}
		#take() {
			if (this.#used) {
				throw new TypeError('Body has already been consumed');
			}
			this.#used = true;
		}
		async text() {
			this.#take();
			return guard(this.#req.text(), this.#signal);
		}
		async json() { return JSON.parse(await this.text()); }
		// Closing a response frees its connection; a body read to its end
		// is closed already.
		async [Symbol.asyncDispose]() { this.#req.close(); }
	}

	define('AbortSignal', AbortSignal);
	define('AbortController', AbortController);
	define('Headers', Headers);
	define('Response', Response);
	define('fetch', async function fetch(input, init) {
		init = init || {};
		const url = String(input);
		const method = String(init.method || 'GET').toUpperCase();
		const headers = new Headers(init.headers);
		const payload = init.body == null ? null : String(init.body);
		const signal = init.signal || null;
		if (signal) {
			signal.throwIfAborted();
		}
		const req = go.fetch(url, method, headers[pairs](), payload);
		if (signal) {
			signal.addEventListener('abort', () => req.abort(), { once: true });
		}
		const raw = await guard(req.response, signal);
		return new Response(req, raw, signal);
	});

	// What Go calls.
	return {
		// asyncFromSync wraps a sync iterator as an async one whose next
		// awaits the values, as for await does.
		asyncFromSync(it) {
			return {
				async next() {
					const r = it.next();
					return { done: !!r.done, value: await r.value };
				},
				async return(value) {
					return typeof it.return === 'function' ? it.return(value) : { done: true, value };
				},
			};
		},
	};
})
