// Where images come in: a drop zone that also opens the file picker on click (or Enter/Space).
export function attachImageInput(dropZone: HTMLElement, fileInput: HTMLInputElement, onFile: (file: File) => void): void {
  const take = (files: FileList | null | undefined) => {
    const file = files?.[0];
    if (file) onFile(file);
  };
  fileInput.addEventListener('change', () => {
    take(fileInput.files);
    // Clearing the value lets the same file be chosen again.
    fileInput.value = '';
  });
  dropZone.addEventListener('click', () => fileInput.click());
  dropZone.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      fileInput.click();
    }
  });
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('dragging');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('dragging');
    take(event.dataTransfer?.files);
  });
}
