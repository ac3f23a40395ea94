import { describeKerasReference } from './helpers/keras-ref-suite';
import { REGNET_SIZES } from './helpers/regnet-sizes';

// RegNetY (tf-keras's regnet.py run on Keras 3, test/fixtures/keras-ref): layer tables and outputs.
for (const size of REGNET_SIZES) describeKerasReference(`RegNetY${size}`);
