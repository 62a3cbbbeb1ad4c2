// Samples one atlas tile, composited over white, inside a frame in the point's colour.
precision highp float;

uniform sampler2D uAtlas;
// Size of one tile in texture coordinates.
uniform vec2 uTileUv;
// Frame width as a fraction of the thumbnail side.
uniform float uBorder;

in vec2 vTileOrigin;
in vec4 vColor;
out vec4 fragColor;

void main() {
  // gl_PointCoord starts at the top-left corner, matching the atlas rows (uploaded without flipY).
  vec2 pc = gl_PointCoord;
  if (any(lessThan(pc, vec2(uBorder))) || any(greaterThan(pc, vec2(1.0 - uBorder)))) {
    fragColor = vec4(vColor.rgb, 1.0);
    return;
  }
  vec2 inner = (pc - uBorder) / (1.0 - 2.0 * uBorder);
  vec4 texel = texture(uAtlas, (vTileOrigin + inner) * uTileUv);
  fragColor = vec4(mix(vec3(1.0), texel.rgb, texel.a), 1.0);
}
