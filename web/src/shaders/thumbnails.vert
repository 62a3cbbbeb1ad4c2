// Thumbnails drawn in place of points at close zoom; one draw per sprite atlas.
precision highp float;

uniform mat4 modelViewMatrix;
uniform mat4 projectionMatrix;
// Side of a thumbnail in device pixels.
uniform float uThumbSize;
// Tiles per atlas row.
uniform float uPerRow;

in vec3 position;
// Tile number inside this atlas.
in float tile;
// Frame colour: the point's colour.
in vec4 color;

out vec2 vTileOrigin;
out vec4 vColor;

void main() {
  vTileOrigin = vec2(mod(tile, uPerRow), floor(tile / uPerRow));
  vColor = color;
  gl_Position = projectionMatrix * modelViewMatrix * vec4(position.xy, 0.5, 1.0);
  gl_PointSize = uThumbSize;
}
