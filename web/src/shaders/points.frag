// Round points with a darker rim; in the picking pass the colour is the encoded index, unblended.
precision highp float;

// Opacity of undimmed points.
uniform float uOpacity;

in vec4 vColor;
out vec4 fragColor;

void main() {
  vec2 c = gl_PointCoord * 2.0 - 1.0;
  float r2 = dot(c, c);
  if (r2 > 1.0) discard;

#ifdef PICK
  fragColor = vColor;
#else
  vec3 rgb = r2 > 0.55 ? vColor.rgb * 0.7 : vColor.rgb;
  fragColor = vec4(rgb, vColor.a * uOpacity);
#endif
}
