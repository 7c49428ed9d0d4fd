// render.js renders the pages of the example's HTTP server. Each loop of the
// pool has a VM of its own with this script; loopName() is the Go function
// that names the loop it runs on.

let rendered = 0; // pages this VM rendered: loop-bound, no lock

function escape(s) {
	return String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

// render returns the HTML page for path, with rows list items: the
// template work, a little CPU, that the pool spreads over its loops.
function render(path, rows) {
	rendered++;
	const items = [];
	for (let i = 0; i < rows; i++) {
		items.push(`<li>${escape(path)} item ${i}: ${(i * 2654435761 % 1000003).toString(36)}</li>`);
	}
	return `<!doctype html>\n<title>${escape(path)}</title>\n` +
		`<p>rendered by ${loopName()} (page ${rendered} of this VM)</p>\n<ul>\n${items.join('\n')}\n</ul>\n`;
}
