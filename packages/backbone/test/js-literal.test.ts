import { describe, expect, it } from 'vitest';
import { extractUmdExport, parseJsLiteral } from '../src/js-literal.js';
import { patchTopology } from '../src/layers-topology.js';

describe('minified literal parser', () => {
  it('parses unquoted keys, !0/!1, null, .5 numbers, exponents, escapes and nesting', () => {
    const text = `{a:1,b:-.5,c:2e-3,"d":"x\\"y",e:[!0,!1,null,[]],f:{},g:'q'}`;
    expect(parseJsLiteral(text, 0).value).toEqual({ a: 1, b: -0.5, c: 0.002, d: 'x"y', e: [true, false, null, []], f: {}, g: 'q' });
  });

  it('extracts the export of a UMD module without evaluating it', () => {
    const umd = `!function(e){module.exports=e()}(function(){return{1:[function(e,a,n){a.exports={modelTopology:{x:!0},weightsManifest:[]}},{}]}});`;
    expect(extractUmdExport(umd, 'm.js')).toEqual({ modelTopology: { x: true }, weightsManifest: [] });
    expect(extractUmdExport(`(function(){h.exports="QUJD"})`, 's.js')).toBe('QUJD');
  });

  it('refuses code in place of data', () => {
    expect(() => extractUmdExport(`a.exports={x:alert(1)}`, 'evil.js')).toThrow(/evil\.js: expected a literal at offset/);
    expect(() => extractUmdExport(`var x = 1`, 'none.js')).toThrow(/none\.js: no '<module>\.exports=' literal/);
  });
});

describe('patchTopology', () => {
  const topology = {
    model_config: {
      class_name: 'Model',
      config: {
        layers: [
          { name: 'in', class_name: 'InputLayer', config: { batch_input_shape: [null, 224, 224, 3] }, inbound_nodes: [] },
          { name: 'a', class_name: 'Conv2D', config: {}, inbound_nodes: [[['in', 0, 0, {}]]] },
          { name: 'bn', class_name: 'BatchNormalization', config: { scale: false }, inbound_nodes: [[['a', 0, 0, {}]]] },
          { name: 'b', class_name: 'Conv2D', config: {}, inbound_nodes: [[['in', 0, 0, {}]]] },
          { name: 'sum', class_name: 'Add', config: {}, inbound_nodes: [[['bn', 0, 0, {}], ['b', 0, 0, {}]]] },
          { name: 'head', class_name: 'Dense', config: {}, inbound_nodes: [[['sum', 0, 0, {}]]] },
        ],
        input_layers: [['in', 0, 0]],
        output_layers: [['head', 0, 0]],
      },
    },
  };
  it('keeps the ancestors of the taps, frees the input size and turns BN scale on', () => {
    const patched = patchTopology(topology, ['bn', 'sum']);
    const config = (patched.topology.model_config as { config: { layers: Array<{ name: string; config: Record<string, unknown> }>; output_layers: unknown } }).config;
    expect(config.layers.map((l) => l.name)).toEqual(['in', 'a', 'bn', 'b', 'sum']);
    expect(config.output_layers).toEqual([
      ['bn', 0, 0],
      ['sum', 0, 0],
    ]);
    expect(config.layers[0].config.batch_input_shape).toEqual([null, null, null, 3]);
    expect(config.layers[2].config.scale).toBe(true);
    expect(patched.scaleAdded).toEqual(['bn']);
    expect(topology.model_config.config.layers.length).toBe(6);
    expect(() => patchTopology(topology, ['zzz'])).toThrow(/no layer named zzz/);
  });
});
