// The server and the tests start together: wait until the site answers.
export default async function globalSetup(): Promise<void> {
  const url = process.env.PLAYSCHOOL_URL ?? 'http://127.0.0.1:3000';
  const deadline = Date.now() + 120_000;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the site at ${url} did not come up within 120 s: ${lastError}`);
}
