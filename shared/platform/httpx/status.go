package httpx

// StatusClientClosed is the status the access log records for a request
// whose client went away before it was answered (nginx's 499): no answer
// reached anyone, so the handler's status would only mislead.
const StatusClientClosed = 499
