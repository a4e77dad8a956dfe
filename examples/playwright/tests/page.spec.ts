import { expect, test } from '@playwright/test';
import { pace } from './pace';

const COUNTER_PAGE = `<!doctype html>
<html>
  <head><title>Counter</title></head>
  <body>
    <h1>Counter</h1>
    <button id="increment">+1</button>
    <output id="count">0</output>
    <script>
      document.getElementById('increment').addEventListener('click', () => {
        const count = document.getElementById('count');
        count.textContent = String(Number(count.textContent) + 1);
        console.log('clicked, count is ' + count.textContent);
      });
    </script>
  </body>
</html>`;

test.describe('counter page', () => {
  test('counts clicks', async ({ page }) => {
    await page.setContent(COUNTER_PAGE);
    await expect(page).toHaveTitle('Counter');
    await page.getByRole('button', { name: '+1' }).click();
    await pace(1500);
    await page.getByRole('button', { name: '+1' }).click();
    await pace(1500);
    await expect(page.locator('#count')).toHaveText('2');
  });

  test('serves the page from a route, without network', async ({ page }) => {
    // Requests to this made-up origin are answered here; nothing leaves the machine.
    await page.route('http://app.testwire.local/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: COUNTER_PAGE }),
    );
    await page.goto('http://app.testwire.local/');
    await pace(2000);
    await expect(page.getByRole('heading')).toHaveText('Counter');
  });
});
