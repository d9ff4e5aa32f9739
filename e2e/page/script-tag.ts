// Entry of the script-tag test page: the harness around the global the built IIFE
// (dist/lifeline.min.js, loaded by its own <script> tag before this one) defines.
import { installHarness, type CreateClient } from './harness.js';

declare global {
  interface Window {
    Lifeline?: { createClient: CreateClient };
  }
}

if (!window.Lifeline) throw new Error('window.Lifeline is missing: dist/lifeline.min.js did not load');
installHarness(window.Lifeline.createClient, 'script-tag');
