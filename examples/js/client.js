// client.js is a small HTTP client library written the way JavaScript
// libraries are: async all the way down, a session that must be closed
// (Symbol.asyncDispose), and responses whose lines are an async iterable.
// Go uses it from sync code, on many goroutines, through package js.
//
// It calls three Go functions the example defines: tid(), the OS thread the
// JavaScript runs on; loopName(), the name of its loop; and
// sessionClosed(id, requests), which prints that a session closed.

const client = (() => {
	'use strict';

	let sessions = 0; // sessions made; a loop-bound counter, no lock needed

	class Session {
		#base;
		#requests = 0;
		#open = true;

		constructor(base) {
			this.#base = base;
			this.id = ++sessions;
		}

		requests() { return this.#requests; }

		// get fetches path and returns a Response, an async-disposable object.
		async get(path) {
			if (!this.#open) {
				throw new Error(`session ${this.id} is closed`);
			}
			const r = await fetch(this.#base + path);
			this.#requests++;
			return new Response(r, this.#requests);
		}

		// Closing waits a moment, as a real client waits for its
		// connections to say goodbye: an async cleanup.
		async [Symbol.asyncDispose]() {
			this.#open = false;
			await new Promise(resolve => setTimeout(resolve, 1));
			sessionClosed(this.id, this.#requests);
		}
	}

	class Response {
		#r;

		constructor(r, n) {
			this.#r = r;
			this.status = r.status;
			this.n = n; // the session's request count after this request
		}

		// lines returns the body as an async iterable of lines, read chunk by
		// chunk as they come.
		lines() {
			const body = this.#r.body;
			let carry = '';
			let pending = [];
			let ended = false;
			return {
				[Symbol.asyncIterator]() { return this; },
				async next() {
					while (pending.length === 0 && !ended) {
						const { done, value } = await body.next();
						if (done) {
							ended = true;
							if (carry !== '') pending.push(carry);
							break;
						}
						const parts = (carry + value).split('\n');
						carry = parts.pop();
						pending.push(...parts);
					}
					return pending.length > 0 ? { done: false, value: pending.shift() } : { done: true, value: undefined };
				},
				async return() {
					await body.return();
					return { done: true, value: undefined };
				},
			};
		}

		async [Symbol.asyncDispose]() { await this.#r[Symbol.asyncDispose](); }
	}

	return {
		// openSession is the factory, as aiohttp.ClientSession's constructor:
		// it is called on the loop.
		async openSession(base) { return new Session(base); },

		// doStuff is the seed's do_stuff(session): one request, and where it
		// ran.
		async doStuff(session) {
			const r = await session.get('/');
			await r[Symbol.asyncDispose]();
			return { status: r.status, loop: loopName(), thread: tid(), n: r.n };
		},

		get sessions() { return sessions; },
	};
})();

// The seed's teaser, in JavaScript.
async function doubled(i) { return i * 2; }
function generate(n) {
	let i = 0;
	return { async next() { return i < n ? { done: false, value: i++ } : { done: true }; } };
}
