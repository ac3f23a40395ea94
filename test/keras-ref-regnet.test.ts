import { describeKerasReference } from './helpers/keras-ref-suite';
import * as regnet from '../src/applications/regnet';

// RegNetX/Y (tf-keras's regnet.py run on Keras 3, test/fixtures/keras-ref): layer tables and outputs.
for (const size of ['002', '004', '006', '008', '016', '032', '040', '064', '080', '120', '160', '320']) {
  for (const type of ['X', 'Y'] as const) {
    const build = regnet[`regnet${type}${size}` as `regnet${typeof type}002`];
    describeKerasReference(`RegNet${type}${size}`, (options) => build(options));
  }
}
