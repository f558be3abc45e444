// Response/request types derived from the GENERATED `paths` (schema.d.ts, `npm run gen:api`),
// so no component name of the backend's serializers is hard-coded here.
import type { paths } from "./schema";

type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : never;
type Responses<P extends keyof paths, M extends string> = paths[P] extends Record<M, { responses: infer R }>
  ? R
  : never;

/** JSON body of the success (200, else 201) response of `M P`. */
export type Ok<P extends keyof paths, M extends string = "get"> =
  Responses<P, M> extends infer R
    ? 200 extends keyof R
      ? JsonOf<R[200]>
      : 201 extends keyof R
        ? JsonOf<R[201]>
        : never
    : never;

/** JSON request body of `M P`. */
export type Body<P extends keyof paths, M extends string = "post"> = paths[P] extends Record<
  M,
  { requestBody?: { content: { "application/json": infer B } } }
>
  ? B
  : never;

/** One element of the `results` of a paginated list response. */
export type Item<P extends keyof paths, M extends string = "get"> =
  Ok<P, M> extends { results?: (infer T)[] } ? T : Ok<P, M> extends (infer T)[] ? T : never;

export type Topic = Item<"/api/work/topics/">;
/** Search result (API.md §2.4); the schema does not describe the search action's envelope yet. */
export type SearchHit = Topic & {
  subject_highlight: string | null;
  description_highlight: string | null;
  answer?: string | null;
};
export interface SearchPage {
  count: number;
  next: string | null;
  previous: string | null;
  results: SearchHit[];
}
export type Label = Item<"/api/work/labels/">;
export type Classes = Item<"/api/school/classes/">;
export type Article = Item<"/api/community/articles/">;
export type Comment = Item<"/api/community/comments/">;
export type Commodity = Item<"/api/shopping/commodity/">;
export type CartRow = Item<"/api/shopping/cart/">;
export type Order = Item<"/api/shopping/orders/">;
export type Address = Item<"/api/users/address/">;
export type AreaBrief = Item<"/api/users/area/">;
export type Me = Ok<"/api/users/me/">;
