/**
 * A picked image file made into a contact photo: drawn on a canvas no larger
 * than 256 px on its longer side and encoded as a JPEG data: URL (what
 * ContactData.photo carries), so a 5 MB camera picture becomes ~20 KB
 * before it reaches the server.
 */
export const PHOTO_MAX = 256;

export async function resizePhoto(file: File, max = PHOTO_MAX): Promise<string> {
  if (!/^image\//.test(file.type)) throw new Error("not an image");
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const scale = Math.min(1, max / Math.max(img.naturalWidth, img.naturalHeight));
    const w = Math.max(1, Math.round(img.naturalWidth * scale));
    const hgt = Math.max(1, Math.round(img.naturalHeight * scale));
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = hgt;
    const g = canvas.getContext("2d");
    if (!g) throw new Error("no canvas");
    // JPEG has no transparency: a transparent PNG gets a white background, not black.
    g.fillStyle = "#fff";
    g.fillRect(0, 0, w, hgt);
    g.drawImage(img, 0, 0, w, hgt);
    return canvas.toDataURL("image/jpeg", 0.85);
  } finally {
    URL.revokeObjectURL(url);
  }
}
