// Points of the map. Also the picking pass when PICK is defined: each point then writes its
// index + 1 as an RGB colour, so a pixel read under the cursor gives the hovered point.
precision highp float;
precision highp int;

uniform mat4 modelViewMatrix;
uniform mat4 projectionMatrix;
// Point diameter in render-target pixels.
uniform float uPointSize;
// 1 when some points are selected: the others are drawn dimmed.
uniform float uHasSelection;
// 1 when a search matched some points: the others are drawn dimmed.
uniform float uHasHighlight;
// 1 for 2D maps: z is replaced by a layer so that dimmed points stay behind the others.
uniform float uFlat;

// A 2D position attribute leaves z at 0, so one shader serves 2D and 3D projections.
in vec3 position;
in vec4 color;
// Bit flags: 1 hidden, 2 selected, 4 search match.
in float state;

out vec4 vColor;

void main() {
  int flags = int(state + 0.5);
  if ((flags & 1) != 0) {
    // Hidden class: move the point outside the clip volume.
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
    gl_PointSize = 0.0;
    return;
  }

  bool selected = (flags & 2) != 0;
  bool matched = (flags & 4) != 0;
  bool dimmed = (uHasSelection > 0.5 && !selected) || (uHasHighlight > 0.5 && !matched);
  bool emphasised = !dimmed && (uHasSelection > 0.5 || uHasHighlight > 0.5);

  vec3 p = position;
  if (uFlat > 0.5) p.z = dimmed ? -1.0 : 0.0;
  gl_Position = projectionMatrix * modelViewMatrix * vec4(p, 1.0);

#ifdef PICK
  int id = gl_VertexID + 1;
  vColor = vec4(float(id & 255), float((id >> 8) & 255), float((id >> 16) & 255), 255.0) / 255.0;
  gl_PointSize = uPointSize;
#else
  vColor = color;
  if (dimmed) vColor = vec4(mix(color.rgb, vec3(0.8), 0.75), 0.35);
  gl_PointSize = emphasised ? uPointSize * 1.4 : uPointSize;
#endif
}
