import { expect, test, type Page } from '@playwright/test';

const BASE = 'Llama-3.1-8B-Instruct';
const FOUR_BIT = 'Llama-3.1-8B-It-4bit';
const POTSBLITZ = 'Llama-3.1-8B-PotsBlitz-1';

/// Opens a page and waits until hydration has made it interactive.
async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator('[data-interactive="true"]')).toBeAttached();
}

function rowNames(page: Page) {
  return page.locator('table.leaderboard tbody tr[data-id] td.name > a:first-child');
}

test('the dev board shows the three rows in order, with the unranked band', async ({ page }) => {
  await open(page, '/');
  await expect(rowNames(page)).toHaveText([BASE, FOUR_BIT, POTSBLITZ]);
  await expect(page.locator('tr[data-band="ranked"] td.name > a:first-child')).toHaveText([BASE]);
  await expect(page.locator('tr[data-band="unranked"] td.name > a:first-child')).toHaveText([FOUR_BIT, POTSBLITZ]);
  await expect(page.locator('tr[data-band="unranked"] .reason')).toHaveText(['statscore pending', 'statscore pending']);
  await expect(page.locator('tr[data-band="ranked"] .badge')).toHaveText('baseline');
  await expect(page.locator('p.rule')).toContainText("not below the baseline's (55.45)");
});

test('clicking a column header re-sorts the board in the browser', async ({ page }) => {
  await open(page, '/');
  const clemscore = page.getByRole('button', { name: 'clemscore' });
  await clemscore.click();
  await expect(page.locator('th', { has: clemscore })).toHaveAttribute('aria-sort', 'descending');
  await expect(rowNames(page)).toHaveText([BASE, FOUR_BIT, POTSBLITZ]);
  await clemscore.click();
  await expect(page.locator('th', { has: clemscore })).toHaveAttribute('aria-sort', 'ascending');
  // Each band is sorted on its own: the ranked entry stays above the unranked ones.
  await expect(rowNames(page)).toHaveText([BASE, POTSBLITZ, FOUR_BIT]);
});

test('the search box filters rows', async ({ page }) => {
  await open(page, '/');
  await page.getByPlaceholder('Search submissions, teams, descriptions').fill('potsblitz');
  await expect(rowNames(page)).toHaveText([POTSBLITZ]);
  await page.getByPlaceholder('Search submissions, teams, descriptions').fill('no such entry');
  await expect(page.getByText('No entries match.')).toBeVisible();
  await page.getByPlaceholder('Search submissions, teams, descriptions').fill('');
  await expect(rowNames(page)).toHaveCount(3);
});

test('the rules page renders from the navigation', async ({ page }) => {
  await open(page, '/');
  await page.getByRole('link', { name: 'Rules' }).click();
  await expect(page).toHaveURL(/\/rules$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('LM-Playschool, round β.1');
  await expect(page.getByRole('heading', { name: 'The dev leaderboard and its gate' })).toBeVisible();
  await expect(page.locator('article.rules')).toContainText('100 million tokens');
});

test('the JSON export matches the page', async ({ page, request }) => {
  await open(page, '/');
  const response = await request.get('/api/leaderboard/dev.json');
  expect(response.ok()).toBeTruthy();
  const exported = await response.json();
  const pageRows = await page.locator('table.leaderboard tbody tr[data-id]').evaluateAll((rows) =>
    rows.map((row) => ({
      name: row.querySelector('td.name > a')?.textContent ?? '',
      band: row.getAttribute('data-band'),
      rank: row.getAttribute('data-band') === 'ranked' ? Number(row.querySelector('td.rank')?.textContent) : null,
    })),
  );
  expect(
    exported.rows.map((row: { name: string; status: string; rank: number | null }) => ({
      name: row.name,
      band: row.status,
      rank: row.rank,
    })),
  ).toEqual(pageRows);
});

test('a submission opens from the board, and unknown pages say not found', async ({ page }) => {
  await open(page, '/');
  await page.getByRole('link', { name: POTSBLITZ }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(POTSBLITZ);
  await expect(page.locator('p.standing')).toHaveText('Unranked on the dev leaderboard: statscore pending');

  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

test('the test board says it is not published yet', async ({ page }) => {
  await open(page, '/test');
  await expect(page.getByText('No test results have been published yet.')).toBeVisible();
});
