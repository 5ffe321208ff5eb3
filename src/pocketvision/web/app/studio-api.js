// Requests to `pocketvision studio` that are not the store's: its jobs (training,
// exporting) and its own routes. One request helper and one job-polling loop, for the
// studio's trainer and its panels.

const POLL_MS = 250; // how often a running job's progress is read

// The JSON answer of `route` (a POST when `body` is given: JSON, or a FormData);
// an Error with the server's sentence when it refuses.
export async function studioRequest(route, body = undefined) {
  const options = body === undefined ? {} : body instanceof FormData ? { method: "POST", body }
    : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(new URL(route, location.origin), options);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || answer.detail || `the studio answered ${response.status}`);
  return answer;
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
