// Loaded, without `defer`, only on a form sent back with errors: that page is the answer to a
// POST, and were it left so in the history, Back to it would ask to send the form again.
// Made an ordinary visit of the same address before the page is even drawn (so before anyone
// can send it again), it reopens as a fresh form, with a link to any ticket just sent.
if (window.history.replaceState) window.history.replaceState(null, "", window.location.href);
