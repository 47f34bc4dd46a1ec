/** Small types shared by the client's layers. */

/** A user name and password (or token) for one registry host. */
export interface Credentials {
  username: string;
  password: string;
}

/** The part of `fetch` the client uses; tests and callers may inject their own. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;
