/**
 * One string per row name across a gateway replica's pages: each page's reader cuts a fresh string for every
 * row's name, and `intern` hands back the one kept from an earlier page instead. The maps the controller keys
 * by these names then hold and compare the same string objects every second (their hashes computed once), and
 * the strings cut from a page die young. Names missing from a whole page are forgotten when it ends
 * (`endPage`), so the table holds what the last page held.
 */
export class RowNames {
  readonly #names = new Map<string, { readonly name: string; seenPage: number }>();
  #page = 0;

  /** Starts a page: the names interned until `endPage` are the page's. */
  beginPage(): void {
    this.#page += 1;
  }

  /** The kept string equal to `name` (`name` itself, kept, when it is new). */
  intern(name: string): string {
    const entry = this.#names.get(name);
    if (entry !== undefined) {
      entry.seenPage = this.#page;
      return entry.name;
    }
    this.#names.set(name, { name, seenPage: this.#page });
    return name;
  }

  /** Ends the page: names not interned since `beginPage` are forgotten. */
  endPage(): void {
    for (const [key, entry] of this.#names) if (entry.seenPage !== this.#page) this.#names.delete(key);
  }

  /** Names kept. */
  get size(): number {
    return this.#names.size;
  }
}
