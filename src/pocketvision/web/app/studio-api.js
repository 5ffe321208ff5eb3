// Requests to `pocketvision studio`: one way to send them and read a refusal (for the
// project store, the studio's trainer and its panels), and one job-polling loop
// (training, exporting).

const POLL_MS = 250; // how often a running job's progress is read

// The response of `route` (a URL, or a path on the studio): `body` is sent as JSON,
// or as it is when it is a FormData or a Blob. No answer, or a refusal
// ({"error": sentence}), becomes a `Failure` with the server's sentence.
export async function studioFetch(method, route, body = null, Failure = Error) {
  const json = body != null && !(body instanceof FormData) && !(body instanceof Blob);
  let response;
  try {
    response = await fetch(new URL(route, location.origin), { method,
      headers: json ? { "content-type": "application/json" } : {},
      body: json ? JSON.stringify(body) : body });
  } catch (error) {
    throw new Failure(`The studio did not answer (${error.message}): is \`pocketvision studio\` still running?`);
  }
  if (!response.ok) {
    const answer = await response.json().catch(() => ({}));
    throw new Failure(answer.error || answer.detail || `the studio answered ${response.status} ${response.statusText}`);
  }
  return response;
}

// The JSON answer of `route`: a GET, or a POST of `body` when it is given.
export async function studioRequest(route, body = undefined) {
  return (await studioFetch(body === undefined ? "GET" : "POST", route, body ?? null)).json();
}

// The studio's job once it is no longer running, reporting its progress meanwhile.
export async function finishedJob(onProgress) {
  for (;;) {
    const job = await studioRequest("/api/job");
    if (job.state !== "running") return job;
    onProgress(job);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
