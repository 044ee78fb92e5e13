import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The fake GitHub that scripts/test.sh starts beside the site.
const REFERENCE = join(__dirname, '../../../shared/reference/playpen');
const FIXTURES = join(__dirname, '../fixtures');

/// Opens a page and waits until hydration has made it interactive.
async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator('[data-interactive="true"]')).toBeAttached();
}

/// Signs in through "GitHub": the site sends the browser to the consent page and back.
async function signIn(page: Page, login: string): Promise<void> {
  await open(page, '/team');
  await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
  await expect(page.getByRole('heading', { name: 'Authorize Playschool' })).toBeVisible();
  await page.getByLabel('Login').fill(login);
  await page.getByRole('button', { name: 'Authorize' }).click();
  await expect(page.getByText(`Signed in as @${login}`)).toBeVisible();
}

async function foundTeam(page: Page, name: string): Promise<void> {
  await page.getByLabel('Team name').fill(name);
  await page.getByRole('button', { name: 'Found the team' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
}

async function fillEntry(page: Page, name: string, valJson: Buffer): Promise<void> {
  await open(page, '/submit');
  await page.getByLabel('Submission name').fill(name);
  await page.getByLabel('Repository URL').fill('https://github.com/team/playful');
  await page.getByLabel('Model (Hugging Face id)').fill('team/playful-8b');
  await page.getByLabel('Model revision').fill('a1b2c3d');
  await page.getByLabel('Training tokens consumed').fill('12500000');
  await page.getByLabel('Description (markdown)').fill('Self-play on **all** games');
  await page.locator('input[name="val_json"]').setInputFiles({
    name: 'qwen3.5-4b.val.json',
    mimeType: 'application/json',
    buffer: valJson,
  });
  await page.locator('input[name="clem_results"]').setInputFiles(join(REFERENCE, 'results.csv'));
  await page.locator('input[name="static_results"]').setInputFiles(join(FIXTURES, 'static-results.csv'));
}

test('an entry goes from the form through a verified check and a merged pull request onto the board', async ({ page }) => {
  await signIn(page, 'ann');
  await foundTeam(page, 'Playful');

  await fillEntry(page, 'Playful 8B', readFileSync(join(REFERENCE, 'qwen3.5-4b.val.json')));
  await expect(page.locator('.quota')).toContainText('3 of 3 submissions left today');
  await page.getByRole('button', { name: 'Preview' }).click();
  await expect(page.locator('.preview strong')).toHaveText('all');
  await page.getByRole('button', { name: 'Check and submit' }).click();

  await expect(page).toHaveURL(/\/submissions\/\d+$/);
  await expect(page.locator('.verdict')).toHaveAttribute('data-verified', 'true');
  // The outbox opens the pull request in the background: the page says so once it has.
  await expect(async () => {
    await page.reload();
    await expect(page.locator('.status')).toHaveText('Verified · PR #1 open', { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });

  // On "GitHub": the pull request adds exactly the entry's row; an organizer merges it.
  await page.locator('a.pr-link').click();
  await expect(page.locator('ul.diff li')).toHaveText([/^\+ \| \| \[Playful 8B\]\(https:\/\/github.com\/team\/playful\) \| \d{4}-\d\d-\d\d \| Playful \| 33\.71 \| 37\.16 \|/]);
  await page.getByRole('button', { name: 'Merge pull request' }).click();
  await expect(page.locator('p.state')).toHaveText('Merged');

  // The merge webhook has put the entry on the board (unranked: its statscore is below the baseline's).
  await open(page, '/');
  const row = page.locator('table.leaderboard tbody tr[data-id]', { hasText: 'Playful 8B' });
  await expect(row).toHaveAttribute('data-band', 'unranked');
  await expect(row.locator('.reason')).toContainText('statscore');
});

test('a tampered val.json is rejected with the difference shown, and costs no quota', async ({ page }) => {
  await signIn(page, 'bo');
  await foundTeam(page, 'Tamperers');
  await fillEntry(page, 'Too Good', Buffer.from('{"clemscore": 35.00, "statscore": 37.16}'));
  await page.getByRole('button', { name: 'Check and submit' }).click();

  await expect(page).toHaveURL(/\/submit\?rejected=\d+$/);
  const report = page.locator('section.rejected');
  await expect(report.locator('h2')).toHaveText('"Too Good" was not accepted: the numbers do not check out');
  const mismatch = report.locator('table.mismatches tbody tr');
  await expect(mismatch.locator('td')).toHaveText(['clemscore in qwen3.5-4b.val.json', '35.00', '33.71', '+1.29']);
  await expect(page.locator('.quota')).toContainText('3 of 3 submissions left today');
});
