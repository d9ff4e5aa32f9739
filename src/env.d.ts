/**
 * True in the development build, `false` in the production build: the build replaces it (see
 * rollup.config.mjs), and dead-code elimination drops every `if (__DEV__)` branch from
 * production. Tests run the sources, which are the development build.
 */
declare const __DEV__: boolean;
